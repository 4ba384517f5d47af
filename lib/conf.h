/* conf.h: (being written) */
#ifndef TW_CONF_H
#define TW_CONF_H
#endif
