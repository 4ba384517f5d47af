/* json_lines.h: (being written) */
#ifndef TW_JSON_LINES_H
#define TW_JSON_LINES_H
#endif
