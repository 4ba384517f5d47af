/* collector_conf.h: (being written) */
#ifndef TW_COLLECTOR_CONF_H
#define TW_COLLECTOR_CONF_H
#endif
