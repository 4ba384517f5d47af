/* httpd.h: (being written) */
#ifndef TW_HTTPD_H
#define TW_HTTPD_H
#endif
