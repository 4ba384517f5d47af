/* parser.h: (being written) */
#ifndef TW_PARSER_H
#define TW_PARSER_H
#endif
