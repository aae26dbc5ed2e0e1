/* Prints the monotonic time in nanoseconds each time one pixel of the X screen changes colour: the moment a
 * viewer's window shows a new guest frame there, as the X server has it. Polls with XGetImage every millisecond:
 * a finer poll would take a core from the viewers it measures. */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: pixel-watch X Y\n");
    return 2;
  }
  int x = atoi(argv[1]), y = atoi(argv[2]);
  Display *display = XOpenDisplay(NULL);
  if (!display) {
    fprintf(stderr, "pixel-watch: cannot open the display\n");
    return 1;
  }
  Window root = DefaultRootWindow(display);
  unsigned long last = (unsigned long)-1;
  const struct timespec pause = {0, 1000000};
  for (;;) {
    XImage *image = XGetImage(display, root, x, y, 1, 1, AllPlanes, ZPixmap);
    if (!image) return 1;
    unsigned long pixel = XGetPixel(image, 0, 0);
    XDestroyImage(image);
    if (pixel != last) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      printf("%lld %06lx\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec, pixel);
      fflush(stdout);
      last = pixel;
    }
    nanosleep(&pause, NULL);
  }
}
