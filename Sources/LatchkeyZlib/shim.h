// The system zlib, for gzip artifact reports (gitlab-runner uploads `artifact_format=gzip`).
#include <zlib.h>
