/* cmd_parse.h: (being written) */
#ifndef TW_CMD_PARSE_H
#define TW_CMD_PARSE_H
#endif
