/**
 * Privileged globals sway offers its own clients (1.7 and 1.10 alike), which the wayland-filter tests expect to
 * see directly and never through a network's app window.
 */
export const PRIVILEGED_GLOBALS = [
  "zwlr_screencopy_manager_v1",
  "zwlr_export_dmabuf_manager_v1",
  "zwlr_data_control_manager_v1",
  "zwlr_foreign_toplevel_manager_v1",
  "zwlr_layer_shell_v1",
  "zwp_virtual_keyboard_manager_v1",
  "zwlr_virtual_pointer_manager_v1",
  "zwlr_output_manager_v1",
  "zwlr_output_power_manager_v1",
  "zwlr_gamma_control_manager_v1",
  "zwp_input_method_manager_v2",
  "zwp_keyboard_shortcuts_inhibit_manager_v1",
  "zwp_primary_selection_device_manager_v1",
];
