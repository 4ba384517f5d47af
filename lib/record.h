/* record.h: (being written) */
#ifndef TW_RECORD_H
#define TW_RECORD_H
#endif
