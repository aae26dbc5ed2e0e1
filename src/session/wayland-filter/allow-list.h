/*
 * The globals a network VM's app window may bind, each with why it needs it. Everything else the compositor offers
 * (screencopy, data-control, foreign-toplevel, layer-shell, input-inhibit, virtual keyboard/pointer, output
 * management, gamma, input-method, ...) is never shown to the window's client, and binding it is refused.
 */
#ifndef CLAN_WAYLAND_FILTER_ALLOW_LIST_H
#define CLAN_WAYLAND_FILTER_ALLOW_LIST_H

#include <stdbool.h>
#include <string.h>

struct allowed_global {
  const char *interface;
  const char *reason;
};

static const struct allowed_global ALLOW_LIST[] = {
    {"wl_compositor", "surfaces and regions: every window draws into one"},
    {"wl_subcompositor", "sub-surfaces, which toolkits use inside their own window"},
    {"wl_shm", "shared-memory buffers: how waypipe --no-gpu hands the window's pixels over"},
    {"xdg_wm_base", "toplevel windows and their popups (menus), placed and decorated by the window manager"},
    {"wl_seat", "keyboard, pointer and touch, delivered only to the window that has focus"},
    {"wl_output", "which output a surface is on, for its scale"},
    {"wp_viewporter", "cropping and scaling of the window's own buffers"},
    {"zxdg_decoration_manager_v1", "asks for the compositor's decoration: the trusted frame with the network's prefix"},
    {"wl_data_device_manager", "clipboard and drag-and-drop, which the compositor gives only to the focused window"},
    {"wp_presentation", "timing of the window's own frames (GTK asks for it); says nothing about other clients"},
    {"zxdg_output_manager_v1", "logical size of the outputs, as wl_output already tells (GTK asks for it)"},
    {"wp_fractional_scale_manager_v1", "the preferred scale of the window's own surfaces"},
};

static inline bool allowed_interface(const char *interface) {
  for (size_t i = 0; i < sizeof ALLOW_LIST / sizeof ALLOW_LIST[0]; i++) {
    if (strcmp(ALLOW_LIST[i].interface, interface) == 0) return true;
  }
  return false;
}

#endif
