/* text.h: (being written) */
#ifndef TW_TEXT_H
#define TW_TEXT_H
#endif
