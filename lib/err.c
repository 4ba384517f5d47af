/* err.c: tw_strerror() and tw_errname() generated from TW_ERR_MAP. */
#include "config.h"

#include "err.h"

const char *
tw_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define TW_ERR_MSG(name, value, msg)                                        \
	case (value):                                                       \
		return (msg);
		TW_ERR_MAP(TW_ERR_MSG)
#undef TW_ERR_MSG
	}
	return "unknown error";
}

const char *
tw_errname(int code)
{
	switch (code) {
	case 0:
		return "0";
#define TW_ERR_NAME(name, value, msg)                                       \
	case (value):                                                       \
		return "TW_E" #name;
		TW_ERR_MAP(TW_ERR_NAME)
#undef TW_ERR_NAME
	}
	return "TW_E?";
}
