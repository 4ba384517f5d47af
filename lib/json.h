/* json.h: (being written) */
#ifndef TW_JSON_H
#define TW_JSON_H
#endif
