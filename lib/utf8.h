/* utf8.h: (being written) */
#ifndef TW_UTF8_H
#define TW_UTF8_H
#endif
