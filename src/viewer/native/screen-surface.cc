// clan-viewer's screen surface: a cairo image surface over a read-only mapping of a memory file (the copy path's
// own screen file, or QEMU's shared framebuffer), handed to node-gtk's cairo binding. Why native code: GTK 4.8
// converts every GdkMemoryTexture it draws through floats, even into its own format (about 12 ms of a 1024x768
// frame), and node-gtk's cairo binding cannot make a surface over memory it did not allocate. Cairo draws an
// RGB24 surface (x8r8g8b8, QEMU's format) with pixman's plain copy. C++ and V8's API rather than Node-API: node-gtk
// wraps a cairo_surface_t handed to `new cairo.ImageSurface(external)` only when it is a v8::External, and
// Node-API's externals are not.
#include <node.h>
#include <cairo.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace {

// Larger than any real monitor (frame-checks.ts's MAX_SIDE); keeps a bad caller from asking for gigabytes.
constexpr int64_t kMaxSide = 16384;
constexpr int64_t kBytesPerPixel = 4;
constexpr int64_t kMaxStridePadding = 4096;

struct Mapping {
  void *base;
  size_t length;
};

cairo_user_data_key_t mapping_key;

void Unmap(void *data) {
  auto *mapping = static_cast<Mapping *>(data);
  munmap(mapping->base, mapping->length);
  delete mapping;
}

void Throw(v8::Isolate *isolate, const std::string &message) {
  isolate->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8(isolate, message.c_str()).ToLocalChecked()));
}

bool IntegerArgument(const v8::FunctionCallbackInfo<v8::Value> &info, int index, const char *name, int64_t min, int64_t max, int64_t *out) {
  v8::Isolate *isolate = info.GetIsolate();
  if (!info[index]->IsNumber()) {
    Throw(isolate, std::string("screen surface: ") + name + " is not a number");
    return false;
  }
  double value = info[index].As<v8::Number>()->Value();
  if (!(value >= static_cast<double>(min) && value <= static_cast<double>(max)) || value != static_cast<double>(static_cast<int64_t>(value))) {
    Throw(isolate, std::string("screen surface: ") + name + " " + std::to_string(value) + " is not an integer in " + std::to_string(min) + ".." + std::to_string(max));
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

// surfaceOverFile(fd, offset, width, height, stride): a v8::External holding a new cairo_surface_t (one reference,
// which node-gtk's ImageSurface takes over) over rows `offset`.. of the file. The file must hold every row now; the
// mapping lives as long as the surface.
void SurfaceOverFile(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  int64_t fd, offset, width, height, stride;
  if (!IntegerArgument(info, 0, "fd", 0, INT32_MAX, &fd) || !IntegerArgument(info, 1, "offset", 0, INT64_C(1) << 40, &offset) ||
      !IntegerArgument(info, 2, "width", 1, kMaxSide, &width) || !IntegerArgument(info, 3, "height", 1, kMaxSide, &height) ||
      !IntegerArgument(info, 4, "stride", width * kBytesPerPixel, width * kBytesPerPixel + kMaxStridePadding, &stride)) {
    return;
  }
  if (stride % kBytesPerPixel != 0) {
    Throw(isolate, "screen surface: a stride of " + std::to_string(stride) + " bytes is not a whole number of pixels");
    return;
  }
  const int64_t length = offset + stride * height;
  struct stat file;
  if (fstat(static_cast<int>(fd), &file) != 0) {
    Throw(isolate, std::string("screen surface: fstat: ") + std::strerror(errno));
    return;
  }
  if (!S_ISREG(file.st_mode) || file.st_size < length) {
    Throw(isolate, "screen surface: " + std::to_string(height) + " rows of " + std::to_string(stride) + " bytes from offset " +
                       std::to_string(offset) + " do not fit the memory file of " + std::to_string(S_ISREG(file.st_mode) ? file.st_size : -1) + " bytes");
    return;
  }
  void *base = mmap(nullptr, static_cast<size_t>(length), PROT_READ, MAP_SHARED, static_cast<int>(fd), 0);
  if (base == MAP_FAILED) {
    Throw(isolate, std::string("screen surface: mmap: ") + std::strerror(errno));
    return;
  }
  cairo_surface_t *surface = cairo_image_surface_create_for_data(static_cast<unsigned char *>(base) + offset, CAIRO_FORMAT_RGB24,
                                                                 static_cast<int>(width), static_cast<int>(height), static_cast<int>(stride));
  auto *mapping = new Mapping{base, static_cast<size_t>(length)};
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_set_user_data(surface, &mapping_key, mapping, Unmap) != CAIRO_STATUS_SUCCESS) {
    std::string reason = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    Unmap(mapping);
    Throw(isolate, "screen surface: cairo: " + reason);
    return;
  }
  info.GetReturnValue().Set(v8::External::New(isolate, surface));
}

void Initialize(v8::Local<v8::Object> exports) {
  NODE_SET_METHOD(exports, "surfaceOverFile", SurfaceOverFile);
}

}  // namespace

NODE_MODULE(screen_surface, Initialize)
