/* agent_conf.h: (being written) */
#ifndef TW_AGENT_CONF_H
#define TW_AGENT_CONF_H
#endif
