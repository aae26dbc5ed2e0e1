// clan-viewer's copy-path filter: QEMU 7.2's Scanout and Update messages (the pixels inside the message) written
// into the screen's memory file on GDBus's worker thread, where the message arrives. Why native code: a message
// filter written in JS makes node-gtk stop the worker thread, hand the message to the JS thread, make a fresh V8
// context for the call and wait for it; while the window draws a frame no message is read at all, so the viewer
// showed fewer of QEMU's refreshes than remote-viewer (docs/benchmarks.md, viewer-display).
//
// This filter only ever takes the plain case: a Scanout or Update on the listener's path, with its exact signature,
// wanting no reply, whose rectangle and rows fit both the screen file and the message's own data. Everything else
// (a size change, a message that needs a reply, the shared-memory path, anything malformed or hostile) goes on to
// the JS filter unchanged, which checks it in full and refuses or handles it (listener-calls.ts, frame-checks.ts).
// So what this code accepts is a strict subset of what the JS filter accepts.
//
// The JS thread learns of written pixels through a pipe: one byte whenever changes go from none to some; it then
// takes the counts (takeChanges) and draws at the window's next frame.
#include <node.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace {

constexpr const char *kListenerPath = "/org/qemu/Display1/Listener";
constexpr const char *kListener = "org.qemu.Display1.Listener";
// pixman's x8r8g8b8 and a8r8g8b8 (frame-checks.ts).
constexpr uint32_t kX8R8G8B8 = 0x20020888;
constexpr uint32_t kA8R8G8B8 = 0x20028888;
constexpr int64_t kBytesPerPixel = 4;
constexpr int64_t kMaxStridePadding = 4096;

struct Target {
  int fd = -1;
  int64_t width = 0;
  int64_t height = 0;
};

struct Changes {
  double scanouts = 0;
  double updates = 0;
  double bytes = 0;
};

// Shared by the filter (GDBus's worker thread) and the JS handle (the JS thread); freed with the last of the two.
struct CopyPath {
  std::mutex lock;
  Target target;
  Changes changes;
  bool woken = false;
  int wake_read = -1;
  int wake_write = -1;
  int references = 2;
  guint filter_id = 0;
  GDBusConnection *connection = nullptr;
};

void Release(CopyPath *path) {
  bool last;
  {
    std::lock_guard<std::mutex> guard(path->lock);
    last = --path->references == 0;
  }
  if (!last) return;
  if (path->target.fd >= 0) close(path->target.fd);
  if (path->wake_write >= 0) close(path->wake_write);
  if (path->wake_read >= 0) close(path->wake_read);
  delete path;
}

void ReleaseFromFilter(gpointer data) { Release(static_cast<CopyPath *>(data)); }

// Writes `height` rows of `row_bytes` from `data` (at `stride` apart) to the file at row `y`, byte `x_bytes` of each.
bool WriteRows(int fd, int64_t file_stride, int64_t x_bytes, int64_t y, int64_t height, int64_t row_bytes, const uint8_t *data, int64_t stride) {
  if (x_bytes == 0 && row_bytes == file_stride && stride == file_stride) {
    int64_t total = row_bytes * height;
    int64_t done = 0;
    while (done < total) {
      ssize_t wrote = pwrite(fd, data + done, static_cast<size_t>(total - done), static_cast<off_t>(y * file_stride + done));
      if (wrote <= 0) return false;
      done += wrote;
    }
    return true;
  }
  for (int64_t row = 0; row < height; row++) {
    ssize_t wrote = pwrite(fd, data + row * stride, static_cast<size_t>(row_bytes), static_cast<off_t>((y + row) * file_stride + x_bytes));
    if (wrote != static_cast<ssize_t>(row_bytes)) return false;
  }
  return true;
}

// True when the message was one this filter takes and its pixels are now in the screen file.
bool TakePixels(CopyPath *path, GDBusMessage *message) {
  if (g_dbus_message_get_message_type(message) != G_DBUS_MESSAGE_TYPE_METHOD_CALL) return false;
  if ((g_dbus_message_get_flags(message) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED) == 0) return false;
  if (g_strcmp0(g_dbus_message_get_path(message), kListenerPath) != 0 || g_strcmp0(g_dbus_message_get_interface(message), kListener) != 0) return false;
  const char *member = g_dbus_message_get_member(message);
  const char *signature = g_dbus_message_get_signature(message);
  GVariant *body = g_dbus_message_get_body(message);
  if (body == nullptr) return false;
  const bool is_scanout = g_strcmp0(member, "Scanout") == 0 && g_strcmp0(signature, "uuuuay") == 0;
  const bool is_update = g_strcmp0(member, "Update") == 0 && g_strcmp0(signature, "iiiiuuay") == 0;
  if (!is_scanout && !is_update) return false;

  int64_t x = 0, y = 0, width, height;
  uint32_t stride, format;
  GVariant *pixels;
  if (is_scanout) {
    uint32_t w, h;
    g_variant_get(body, "(uuuu@ay)", &w, &h, &stride, &format, &pixels);
    width = w;
    height = h;
  } else {
    int32_t ux, uy, w, h;
    g_variant_get(body, "(iiiiuu@ay)", &ux, &uy, &w, &h, &stride, &format, &pixels);
    x = ux;
    y = uy;
    width = w;
    height = h;
  }
  gsize length = 0;
  const auto *data = static_cast<const uint8_t *>(g_variant_get_fixed_array(pixels, &length, 1));

  bool taken = false;
  {
    std::lock_guard<std::mutex> guard(path->lock);
    const Target &target = path->target;
    const int64_t row_bytes = width * kBytesPerPixel;
    const bool fits = target.fd >= 0 && (format == kX8R8G8B8 || format == kA8R8G8B8) && x >= 0 && y >= 0 && width >= 1 && height >= 1 &&
                      x + width <= target.width && y + height <= target.height && (!is_scanout || (width == target.width && height == target.height)) &&
                      stride >= row_bytes && stride <= row_bytes + kMaxStridePadding && static_cast<int64_t>(length) >= stride * (height - 1) + row_bytes;
    if (fits && WriteRows(target.fd, target.width * kBytesPerPixel, x * kBytesPerPixel, y, height, row_bytes, data, stride)) {
      taken = true;
      (is_scanout ? path->changes.scanouts : path->changes.updates) += 1;
      path->changes.bytes += static_cast<double>(length);
      if (!path->woken) {
        path->woken = true;
        const char byte = 1;
        // The pipe holds at most one byte at a time; a full pipe cannot happen.
        if (write(path->wake_write, &byte, 1) != 1) path->woken = false;
      }
    }
  }
  g_variant_unref(pixels);
  return taken;
}

GDBusMessage *Filter(GDBusConnection *, GDBusMessage *message, gboolean incoming, gpointer data) {
  if (!incoming || !TakePixels(static_cast<CopyPath *>(data), message)) return message;
  g_object_unref(message);
  return nullptr;
}

void Throw(v8::Isolate *isolate, const std::string &message) {
  isolate->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8(isolate, message.c_str()).ToLocalChecked()));
}

CopyPath *HandleOf(const v8::FunctionCallbackInfo<v8::Value> &info) {
  if (!info[0]->IsExternal()) {
    Throw(info.GetIsolate(), "copy-path filter: the first argument is not a filter handle");
    return nullptr;
  }
  return static_cast<CopyPath *>(info[0].As<v8::External>()->Value());
}

// attach(connection): adds the filter to a node-gtk Gio.DBusConnection ahead of any filter added later; returns
// [handle, wakeFd], wakeFd being the JS side's own descriptor of the pipe's reading end. node-gtk keeps a GObject's
// pointer in its wrapper's first internal field.
void Attach(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  if (!info[0]->IsObject() || info[0].As<v8::Object>()->InternalFieldCount() < 1) {
    Throw(isolate, "copy-path filter: attach takes node-gtk's Gio.DBusConnection");
    return;
  }
  auto *instance = static_cast<GTypeInstance *>(info[0].As<v8::Object>()->GetAlignedPointerFromInternalField(0));
  if (instance == nullptr || !G_TYPE_CHECK_INSTANCE_TYPE(instance, G_TYPE_DBUS_CONNECTION)) {
    Throw(isolate, "copy-path filter: attach takes node-gtk's Gio.DBusConnection");
    return;
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    Throw(isolate, std::string("copy-path filter: pipe: ") + std::strerror(errno));
    return;
  }
  const int js_read = fcntl(fds[0], F_DUPFD_CLOEXEC, 0);
  if (js_read < 0) {
    Throw(isolate, std::string("copy-path filter: dup: ") + std::strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return;
  }
  auto *path = new CopyPath();
  path->wake_read = fds[0];
  path->wake_write = fds[1];
  path->connection = G_DBUS_CONNECTION(g_object_ref(instance));
  path->filter_id = g_dbus_connection_add_filter(path->connection, Filter, path, ReleaseFromFilter);
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Array> result = v8::Array::New(isolate, 2);
  result->Set(context, 0, v8::External::New(isolate, path)).Check();
  result->Set(context, 1, v8::Integer::New(isolate, js_read)).Check();
  info.GetReturnValue().Set(result);
}

// setTarget(handle, fd, width, height): the screen file the filter writes into from now on (the filter keeps a
// duplicate of fd); fd -1: none, every Scanout and Update goes to the JS filter. Waits for a write under way.
void SetTarget(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  CopyPath *path = HandleOf(info);
  if (path == nullptr) return;
  if (!info[1]->IsInt32() || !info[2]->IsInt32() || !info[3]->IsInt32()) {
    Throw(isolate, "copy-path filter: setTarget takes (handle, fd, width, height) as integers");
    return;
  }
  const int fd = info[1].As<v8::Int32>()->Value();
  const int64_t width = info[2].As<v8::Int32>()->Value();
  const int64_t height = info[3].As<v8::Int32>()->Value();
  int own = -1;
  if (fd >= 0) {
    if (width < 1 || height < 1) {
      Throw(isolate, "copy-path filter: a target of " + std::to_string(width) + "x" + std::to_string(height) + " pixels");
      return;
    }
    own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) {
      Throw(isolate, std::string("copy-path filter: dup: ") + std::strerror(errno));
      return;
    }
  }
  std::lock_guard<std::mutex> guard(path->lock);
  if (path->target.fd >= 0) close(path->target.fd);
  path->target = Target{own, fd >= 0 ? width : 0, fd >= 0 ? height : 0};
}

// takeChanges(handle): [scanouts, updates, bytes] written since the last call; empties the wake-up pipe.
void TakeChanges(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  CopyPath *path = HandleOf(info);
  if (path == nullptr) return;
  Changes taken;
  {
    std::lock_guard<std::mutex> guard(path->lock);
    char drain[16];
    while (read(path->wake_read, drain, sizeof drain) > 0) {
    }
    path->woken = false;
    taken = path->changes;
    path->changes = Changes{};
  }
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  v8::Local<v8::Array> result = v8::Array::New(isolate, 3);
  result->Set(context, 0, v8::Number::New(isolate, taken.scanouts)).Check();
  result->Set(context, 1, v8::Number::New(isolate, taken.updates)).Check();
  result->Set(context, 2, v8::Number::New(isolate, taken.bytes)).Check();
  info.GetReturnValue().Set(result);
}

// detach(handle): removes the filter and drops the JS side's hold; the handle must not be used again.
void Detach(const v8::FunctionCallbackInfo<v8::Value> &info) {
  CopyPath *path = HandleOf(info);
  if (path == nullptr) return;
  GDBusConnection *connection = path->connection;
  {
    std::lock_guard<std::mutex> guard(path->lock);
    if (path->target.fd >= 0) close(path->target.fd);
    path->target = Target{};
  }
  g_dbus_connection_remove_filter(connection, path->filter_id);
  g_object_unref(connection);
  Release(path);
}

void Initialize(v8::Local<v8::Object> exports) {
  NODE_SET_METHOD(exports, "attach", Attach);
  NODE_SET_METHOD(exports, "setTarget", SetTarget);
  NODE_SET_METHOD(exports, "takeChanges", TakeChanges);
  NODE_SET_METHOD(exports, "detach", Detach);
}

}  // namespace

NODE_MODULE(copy_path_filter, Initialize)
