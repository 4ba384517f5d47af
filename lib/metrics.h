/* metrics.h: (being written) */
#ifndef TW_METRICS_H
#define TW_METRICS_H
#endif
