#!/bin/sh
# /init of the test guest: the smallest guest that speaks clan-vmd's protocols for real — qemu-ga on the
# guest-agent port and the "ready" line on the control port. It deliberately handles no ACPI event, so a
# system_powerdown is ignored and the host's stop escalation gets exercised. With clan.waypipe-demo=1 (and the
# initrd-waypipe initramfs) it also forwards one Wayland window to the host with waypipe. With
# clan.hostile-control=1 it attacks clan-vmd's control-port parser before and after its ready line, and with
# clan.hostile-console=1 it writes terminal escapes (OSC 52 clipboard, window title, clear screen) to its console.
# PID 1 must never exit: the kernel panics when init does.

export PATH=/bin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/qemu-ga
# The built-in initramfs may lack /dev/console; devtmpfs has it.
exec </dev/console >/dev/console 2>&1

# The cloud kernel builds virtio as modules; build-test-guest.sh lists them in dependency order.
while read -r mod; do
  insmod "/lib/modules/$mod" || echo "init: insmod $mod failed"
done </lib/modules/load-order

generation=unknown
never_ready=0
waypipe_demo=0
hostile_control=0
hostile_console=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    clan.generation=*) generation=${arg#clan.generation=} ;;
    clan.never-ready=1) never_ready=1 ;;
    clan.waypipe-demo=1) waypipe_demo=1 ;;
    clan.hostile-control=1) hostile_control=1 ;;
    clan.hostile-console=1) hostile_console=1 ;;
  esac
done

# The VM's address in its network's VPN (docs/vpn.md): clan-vmd passes clan.ip=<address>/32 and clan.gw=<the
# namespace's end of the tap> (WireGuard), or clan.ip6 and clan.gw6 (Yggdrasil): a host route to the gateway
# and everything else through it.
vpn_ip=
vpn_gw=
vpn_ip6=
vpn_gw6=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    clan.ip=*) vpn_ip=${arg#clan.ip=} ;;
    clan.gw=*) vpn_gw=${arg#clan.gw=} ;;
    clan.ip6=*) vpn_ip6=${arg#clan.ip6=} ;;
    clan.gw6=*) vpn_gw6=${arg#clan.gw6=} ;;
  esac
done
if [ -n "$vpn_ip6" ]; then
  ip link set lo up
  ip link set eth0 up
  ip -6 addr add "$vpn_ip6" dev eth0
  ip -6 route add default via "${vpn_gw6:-fe80::1}" dev eth0
  echo "init: eth0 has $vpn_ip6, gateway ${vpn_gw6:-fe80::1}"
fi
if [ -n "$vpn_ip" ]; then
  ip link set lo up
  ip link set eth0 up
  ip addr add "$vpn_ip" dev eth0
  if [ -n "$vpn_gw" ]; then
    ip route add "$vpn_gw" dev eth0
    ip route add default via "$vpn_gw" dev eth0
  fi
  echo "init: eth0 has $vpn_ip, gateway ${vpn_gw:-none}"
fi
# The network's peers by name, which clan-vmd hands over through QEMU's fw_cfg.
peer_hosts=/sys/firmware/qemu_fw_cfg/by_name/opt/org.clan/hosts/raw
if [ -r "$peer_hosts" ]; then
  mkdir -p /etc
  cat "$peer_hosts" >>/etc/hosts
fi

# Ports appear once virtio_console has probed the device; give it a moment under TCG.
port_named() {
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    for f in /sys/class/virtio-ports/*/name; do
      [ -r "$f" ] && [ "$(cat "$f")" = "$1" ] && { d=${f%/name}; echo "/dev/${d##*/}"; return 0; }
    done
    sleep 0.2
  done
  return 1
}

if [ -b /dev/vda ]; then
  echo "init: /dev/vda is $(cat /sys/block/vda/size) sectors of 512 bytes"
  # A state disk that holds ext4 (magic 0xEF53 at byte 1080) is mounted at /state, so that backups freeze a real
  # filesystem: qemu-ga freezes mounted block devices only. A blank disk stays unmounted.
  if [ "$(od -An -tx1 -j1080 -N2 /dev/vda | tr -d ' \n')" = 53ef ]; then
    mkdir -p /state && mount -t ext4 /dev/vda /state && echo "init: mounted the ext4 state disk at /state"
  fi
fi

# Supervised rather than daemonized: a crashed agent comes back, and no orphan is left for PID 1.
if qga_port=$(port_named org.qemu.guest_agent.0); then
  (
    while :; do
      qemu-ga -m virtio-serial -p "$qga_port" -t /run/qemu-ga
      echo "init: qemu-ga exited ($?), restarting"
      sleep 1
    done
  ) &
else
  echo "init: no org.qemu.guest_agent.0 port"
fi

# A virtio port may be opened only once, so reads and writes share fd 3. A blocking write waits until the
# host is connected; a read returns EOF when the host disconnects. Hence "ready" is sent again when a host
# connects after the guest saw the previous one leave — a re-adopting daemon learns the running generation —
# and nothing ever busy-waits. A reconnect so quick that the reader never woke in between gets no new ready.
control_loop() {
  exec 3<>"$1"
  while :; do
    [ "$hostile_control" = 1 ] && hostile_control_lines >&3
    printf '{"type":"ready","generation":"%s"}\n' "$generation" >&3
    [ "$hostile_control" = 1 ] && hostile_control_lines >&3
    while read -r line <&3; do
      case "${line//[[:space:]]/}" in
        *'"type":"ping"'*) printf '{"type":"pong"}\n' >&3 ;;
      esac
    done
    echo "init: control port host disconnected"
  done
}

# What a hostile guest sends on the control port: the 10 KB, 5,000-deep JSON line that once crashed clan-vmd
# while it logged it, a 200 KB line (over the 64 KiB limit), invalid UTF-8, and a flood of 3,000 bad messages.
hostile_control_lines() {
  yes '[' | head -n 5000 | tr -d '\n'
  yes ']' | head -n 5000 | tr -d '\n'
  echo
  yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -n 2000 | tr -d '\n'
  echo
  printf '\377\376{"type":"\300\200\355\240\200"}\n{"type":"pong","x":"\377\033]52;c;aGk=\007"}\n'
  yes '{"type":"flood","n":[1,[2,[3]]]}' | head -n 3000
}

# Before the ready line, so a host that saw ready finds the banner in the console log.
banner="clan test guest $generation ready"
[ "$never_ready" = 1 ] && banner="clan test guest $generation (never ready)"
echo "$banner"
# Also on the VGA console, so a display screenshot shows it when the serial line is the system console.
echo "$banner" >/dev/tty1 2>/dev/null

if [ "$hostile_console" = 1 ]; then
  # OSC 52 writes "hacked" to the clipboard, OSC 0 sets the window title, CSI 2J + H clears the screen; an
  # invalid UTF-8 byte and a right-to-left override follow.
  printf 'hostile console: \033]52;c;aGFja2Vk\007\033]0;pwned-title\007\033[2J\033[H\377 \342\200\256evil\n'
fi

if [ "$never_ready" = 1 ]; then
  echo "init: clan.never-ready=1, not sending ready"
elif ctl_port=$(port_named org.clan.control.0); then
  control_loop "$ctl_port" &
else
  echo "init: no org.clan.control.0 port"
fi

# The guest's half of the waypipe display (docs/session.md, "Forwarded app windows"). Each host connection to
# the port carries one waypipe session: the header, written with a blocking write, waits until clan-sessiond's
# bridge is connected and tells it a session starts; socat then carries waypipe's stream between the port and
# the unix socket `waypipe server` connects to. socat must not touch the port before that write: a read returns
# EOF at once while no host is connected, which would end the session before it began. When the session ends,
# the host drops its connection; reading to EOF waits for that, so the next header never lands in the old one.
waypipe_demo_loop() {
  export XDG_RUNTIME_DIR=/run/user/0
  mkdir -p /run/user && mkdir -m 0700 "$XDG_RUNTIME_DIR"
  sock=$XDG_RUNTIME_DIR/waypipe.sock
  exec 4<>"$1"
  while :; do
    printf 'clan-waypipe 1\n' >&4
    rm -f "$sock"
    socat UNIX-LISTEN:"$sock" FD:4 &
    bridge=$!
    # Bounded: socat binds within milliseconds, and waypipe fails when nothing listens yet.
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    waypipe --no-gpu --oneshot -s "$sock" server -- weston-simple-touch
    echo "init: waypipe session ended ($?)"
    kill "$bridge" 2>/dev/null
    wait "$bridge"
    cat <&4 >/dev/null
  done
}

if [ "$waypipe_demo" = 1 ]; then
  if ! command -v waypipe >/dev/null; then
    echo "init: clan.waypipe-demo=1 needs initrd-waypipe, which has waypipe; this initrd has none"
  elif wp_port=$(port_named org.clan.waypipe.0); then
    waypipe_demo_loop "$wp_port" &
  else
    echo "init: clan.waypipe-demo=1 but no org.clan.waypipe.0 port (is the VM's display waypipe?)"
  fi
fi

while :; do sleep 3600; done
