/* version.h: the one place that names vanthu's version. */
#ifndef VANTHU_VERSION_H
#define VANTHU_VERSION_H
#define VANTHU_VERSION "0.1.0"
#endif
