#ifndef MANGACOLOR_IMAGE_CODECS_H
#define MANGACOLOR_IMAGE_CODECS_H
// C shims around libjpeg whose error handling needs setjmp/longjmp, which Swift cannot do.
// (Filled in by the Colorize work; declarations live here.)
#endif
