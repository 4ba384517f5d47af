/* base64.h: (being written) */
#ifndef TW_BASE64_H
#define TW_BASE64_H
#endif
