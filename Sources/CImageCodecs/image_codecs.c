#include "include/image_codecs.h"
