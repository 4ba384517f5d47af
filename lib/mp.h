/* mp.h: (being written) */
#ifndef TW_MP_H
#define TW_MP_H
#endif
