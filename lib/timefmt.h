/* timefmt.h: (being written) */
#ifndef TW_TIMEFMT_H
#define TW_TIMEFMT_H
#endif
