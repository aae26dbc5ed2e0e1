#!/bin/sh
# /init of the test guest: the smallest guest that speaks clan-vmd's protocols for real — qemu-ga on the
# guest-agent port and the "ready" line on the control port. It deliberately handles no ACPI event, so a
# system_powerdown is ignored and the host's stop escalation gets exercised. With clan.waypipe-demo=1 (and the
# initrd-waypipe initramfs) it also forwards Wayland windows to the host with waypipe: clan.waypipe-apps=N apps
# at once (default 1), after clan.waypipe-probe=1 has listed each port's globals with wayland-info, and beside
# clan.waypipe-flood=1's hostile stream on one port. With
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
waypipe_apps=1
waypipe_probe=0
waypipe_flood=0
hostile_control=0
hostile_console=0
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    clan.generation=*) generation=${arg#clan.generation=} ;;
    clan.never-ready=1) never_ready=1 ;;
    clan.waypipe-demo=1) waypipe_demo=1 ;;
    clan.waypipe-apps=[1-9]) waypipe_apps=${arg#clan.waypipe-apps=} ;;
    clan.waypipe-probe=1) waypipe_probe=1 ;;
    clan.waypipe-flood=1) waypipe_flood=1 ;;
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

# The guest's half of the waypipe display (docs/session.md, "Forwarded app windows"). The VM has a port per app it
# may show at once (org.clan.waypipe.0, .1, …: vm.json waypipe.ports). A virtio port can be open only once, so a
# port that opens is free and stays this session's until it closes it. Each host connection to a port carries one
# waypipe session: the header, written with a blocking write, waits until clan-sessiond's bridge is connected and
# tells it a session starts; socat then carries waypipe's stream between the port and the unix socket `waypipe
# server` connects to. socat must not touch the port before that write: a read returns EOF at once while no host
# is connected, which would end the session before it began. When the session ends, the host drops its
# connection; reading to EOF waits for that, so the next header never lands in the old one.

# The device of every waypipe port, in port order.
waypipe_ports() {
  for f in /sys/class/virtio-ports/*/name; do
    name=$(cat "$f")
    case "$name" in org.clan.waypipe.*) d=${f%/name}; echo "${name#org.clan.waypipe.} /dev/${d##*/}" ;; esac
  done | sort -n | cut -d' ' -f2
}

# One session of the app "$@" over the port $1, which the caller opened on fd 4.
waypipe_session() {
  port=$1
  shift
  sock=$XDG_RUNTIME_DIR/waypipe-${port##*/}.sock
  printf 'clan-waypipe 1\n' >&4
  echo "init: waypipe session of $1 on ${port##*/} offered"
  rm -f "$sock"
  socat UNIX-LISTEN:"$sock" FD:4 &
  bridge=$!
  # Bounded: socat binds within milliseconds, and waypipe fails when nothing listens yet.
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  waypipe --no-gpu --oneshot -s "$sock" server -- "$@"
  status=$?
  echo "init: waypipe session of $1 on ${port##*/} ended ($status)"
  kill "$bridge" 2>/dev/null
  wait "$bridge"
  cat <&4 >/dev/null
  return "$status"
}

# Shows the app "$@" on the first free waypipe port, for one session; with every port in use it says so, as a
# launcher in a real guest would, and fails with 75 (EX_TEMPFAIL).
waypipe_open() {
  exec 5>&2
  for port in $(waypipe_ports); do
    opened=0
    # A port in use does not open (EBUSY): only the shell's "can't open" goes to /dev/null, the app keeps stderr.
    { opened=1; waypipe_session "$port" "$@" 2>&5; } 2>/dev/null 4<>"$port"
    status=$?
    [ "$opened" = 1 ] && return "$status"
  done
  echo "clan-waypipe: cannot show $1: all $(waypipe_ports | wc -l) waypipe ports of this VM are in use (vm.json waypipe.ports); close one of its apps first" >&2
  return 75
}

# For the host's allow-list test: the globals an app sees through each port, one console line each.
waypipe_probe() {
  for port in $(waypipe_ports); do
    { PROBE_PORT=${port##*/} waypipe_session "$port" sh -c 'wayland-info | sed -n "s/^interface: .\([A-Za-z0-9_]*\).*/init: waypipe-probe $PROBE_PORT global \1/p"'; } 4<>"$port"
    echo "init: waypipe-probe ${port##*/} done ($?)"
  done
}

# A hostile app on one port, which it holds for good: a session header, then garbage where waypipe's stream
# belongs, and again after every drop.
waypipe_flood() {
  exec 5>&2
  for port in $(waypipe_ports); do
    opened=0
    { opened=1
      echo "init: waypipe flood on ${port##*/}" >&5
      while :; do
        printf 'clan-waypipe 1\n' >&4
        head -c 262144 /dev/urandom >&4
        cat <&4 >/dev/null
      done
    } 2>/dev/null 4<>"$port"
    [ "$opened" = 1 ] && return
  done
  echo "init: waypipe flood: no free port" >&5
}

if [ "$waypipe_demo" = 1 ]; then
  export XDG_RUNTIME_DIR=/run/user/0
  mkdir -p /run/user && mkdir -m 0700 "$XDG_RUNTIME_DIR"
  if ! command -v waypipe >/dev/null; then
    echo "init: clan.waypipe-demo=1 needs initrd-waypipe, which has waypipe; this initrd has none"
  elif port_named org.clan.waypipe.0 >/dev/null; then
    # The ports come one by one as the driver learns of them: wait until their count holds still.
    count=0
    while [ "$(waypipe_ports | wc -l)" != "$count" ]; do count=$(waypipe_ports | wc -l); sleep 0.5; done
    echo "init: waypipe ports: $(waypipe_ports | tr '\n' ' ')"
    (
      [ "$waypipe_probe" = 1 ] && waypipe_probe
      [ "$waypipe_flood" = 1 ] && waypipe_flood &
      # The flood takes the first port before the apps look for free ones.
      [ "$waypipe_flood" = 1 ] && sleep 1
      for _ in $(seq "$waypipe_apps"); do
        ( while :; do waypipe_open weston-simple-touch || sleep 3; done ) &
      done
      wait
    ) &
  else
    echo "init: clan.waypipe-demo=1 but no org.clan.waypipe.0 port (is the VM's display waypipe?)"
  fi
fi

while :; do sleep 3600; done
