/* batch.h: (being written) */
#ifndef TW_BATCH_H
#define TW_BATCH_H
#endif
