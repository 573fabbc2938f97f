"""Deterministic inputs for benchmarks/bench.py (issue 7).

Everything here depends only on the seed (bench.py keys its cached inputs by the seed and
a CRC of this file). Nothing imports uffdpte: the inputs are built from the kernel's
layouts as written below, not from the code under test.

    python benchmarks/gen.py values x86_64 N > FILE    # N values, one per line
    python benchmarks/gen.py values arm64 N > FILE
    python benchmarks/gen.py dmesg MB > FILE           # MB megabytes of dmesg text
    python benchmarks/gen.py stream x86_64 MB          # MB of values to stdout (for a pipe)
    (each takes --seed N; the default is SEED)
"""

from __future__ import annotations

import random
import sys

SEED = 7

M50 = (1 << 50) - 1


# --- page-table entry values ------------------------------------------------------------
#
# A dump is runs of neighbouring entries: a run of present pages with consecutive PFNs,
# a run swapped out to consecutive slots, a hole of none entries, now and then a migration
# entry or a uffd-wp marker. Runs are 1..64 entries long; PFNs and swap offsets are random
# per run, so memoising on the value does not get far.

# x86_64, 4-level (MAX_PHYSMEM_BITS 46): present = 0x8000000000000027 | pfn << 12 and variants
X86_PRESENT_FLAGS = (
    0x8000000000000027,  # P RW US A NX
    0x8000000000000067,  # + DIRTY
    0x8000000000000025,  # read-only
    0x0000000000000025,  # read-only, executable (text)
    0x8000000000000227,  # + SPECIAL
    0x8000000000000867,  # + SOFT_DIRTY
    0x8000000000000427,  # + UFFD_WP
)
# swap flag bits: SWP_SOFT_DIRTY (1), SWP_UFFD_WP (2), SWP_EXCLUSIVE (3)
X86_SWAP_FLAGS = (0, 0, 0, 1 << 3, 1 << 3, 1 << 2, 1 << 1, (1 << 3) | (1 << 2))
X86_MARKERS = (0xFFFFFFFFFFFFFC00, 0xFFFFFFFFFFFFFA00, 0xFFFFFFFFFFFFF600)


def x86_swap(type_: int, offset: int) -> int:
    """L1TF layout: type in bits 63:59, ~offset in bits 58:9."""
    return (type_ << 59) | ((~offset & M50) << 9)


# arm64, 4k pages, 48-bit PA: present = 0x00e8000000000f43 | pfn << 12 and variants
ARM_PRESENT_FLAGS = (
    0x00E8000000000F43,  # writable, dirty: DBM, software DIRTY (+ PXN UXN nG AF SH USER page)
    0x0068000000000FC3,  # writable, clean: DBM with RDONLY set
    0x0060000000000FC3,  # read-only: RDONLY, no DBM
    0x00E0000000000FC3,  # read-only, software DIRTY (write-protected after a write)
    0x0020000000000FC3,  # read-only, executable (UXN clear): text
    0x00E8000000000B43,  # AF clear (old)
)
# arm64 swap: type in 10:6, offset from bit 12; PTE_SWP_EXCLUSIVE bit 2, PTE_SWP_UFFD_WP bit 3
ARM_SWAP_FLAGS = (0, 0, 0, 1 << 2, 1 << 2, 1 << 3)
ARM_MARKERS = (0x17C0, 0x27C0, 0x47C0)

# kind weights: present, swap, migration, marker, none
KINDS = ("present", "swap", "migration", "marker", "none")
WEIGHTS = (55, 18, 4, 5, 18)


def values(arch: str, n: int, seed: int = SEED):
    """Yield n ints: a realistic mix for arch ('x86_64' or 'arm64')."""
    rnd = random.Random(f"{seed}-{arch}")
    x86 = arch == "x86_64"
    present_flags = X86_PRESENT_FLAGS if x86 else ARM_PRESENT_FLAGS
    swap_flags = X86_SWAP_FLAGS if x86 else ARM_SWAP_FLAGS
    markers = X86_MARKERS if x86 else ARM_MARKERS
    pfn_max = (1 << 24) - 1  # 64 GiB of RAM
    choice, randint, choices = rnd.choice, rnd.randint, rnd.choices
    left = n
    while left > 0:
        kind = choices(KINDS, WEIGHTS)[0]
        run = min(left, randint(1, 64))
        left -= run
        if kind == "present":
            base = randint(0, pfn_max - 64)
            for i in range(run):
                flags = present_flags[0] if randint(0, 3) else choice(present_flags)
                yield flags | (base + i) << 12
        elif kind == "swap":
            stype = choice((0, 0, 0, 1, 1, 2, 3))
            base = randint(0, (1 << 21) - 64)  # an 8 GiB swap device
            for i in range(run):
                f = choice(swap_flags)
                if x86:
                    yield x86_swap(stype, base + i) | f
                else:
                    yield (stype << 6) | ((base + i) << 12) | f
        elif kind == "migration":
            base = randint(0, pfn_max - 64)
            for i in range(min(run, 8)):
                if x86:
                    yield x86_swap(26, base + i)
                else:
                    yield (26 << 6) | ((base + i) << 12)
            left += run - min(run, 8)
        elif kind == "marker":
            for i in range(min(run, 16)):
                yield markers[0] if randint(0, 7) else choice(markers)
            left += run - min(run, 16)
        else:
            for i in range(run):
                yield 0


def stream_values(out, arch: str, nbytes: int, seed: int = SEED) -> None:
    """Write about nbytes of values (17 bytes a line) to the binary stream out."""
    n = 0
    chunk = 1 << 16
    i = 0
    while n < nbytes:
        lines = "".join("%016x\n" % v for v in values(arch, chunk, seed + 1000 + i)).encode()
        out.write(lines)
        n += len(lines)
        i += 1
    out.flush()


# --- dmesg text ---------------------------------------------------------------------------

def _hw(rnd):
    return rnd.choice((
        "QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2 04/01/2014",
        "Dell Inc. PowerEdge R640/0W23H8, BIOS 2.19.1 06/21/2023",
        "LENOVO 20XW0026GE/20XW0026GE, BIOS N32ET86W (1.62 ) 01/24/2024",
    ))


X86_KERNELS = (
    ("6.1.0-13-amd64", "#1  Debian 6.1.55-1"),
    ("6.1.0-13-amd64", "#1 Debian"),
    ("6.12.41+deb13-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.12.41-1"),
    ("5.15.0-91-generic", "#101-Ubuntu"),
    ("6.12.0-rc7-syzkaller-00123-gabcdef012345", "#0"),
)
ARM_KERNELS = (
    ("6.12.41+deb13-arm64", "#1  Debian 6.12.41-1"),
    ("6.1.0-13-arm64", "#1  Debian 6.1.55-1"),
    ("6.6.52-generic", "#1 SMP"),
)
COMMS = ("uffd-test", "postgres", "java", "qemu-system-x86", "chrome", "python3", "x")
FRAMES = (
    "dump_stack_lvl+0x44/0x5c", "print_bad_pte.cold+0x6a/0xc5", "zap_pte_range+0x5c2/0x8a0",
    "unmap_page_range+0x2d6/0x4a0", "unmap_vmas+0xd5/0x150", "exit_mmap+0xa3/0x2c0",
    "do_swap_page+0x1b9/0xb90", "__handle_mm_fault+0x7b2/0xc90", "handle_mm_fault+0xd0/0x2a0",
    "do_user_addr_fault+0x1c5/0x640", "exc_page_fault+0x70/0x170", "asm_exc_page_fault+0x22/0x30",
    "mmput+0x6e/0x150", "do_exit+0x2e3/0xb20", "do_group_exit+0x2d/0x90",
)


def _x86_entry(rnd) -> int:
    r = rnd.random()
    pfn = rnd.randint(0x1000, (1 << 24) - 1)
    if r < 0.5:
        return rnd.choice(X86_PRESENT_FLAGS) | pfn << 12
    if r < 0.75:
        return x86_swap(rnd.choice((0, 1, 26)), rnd.randint(1, 1 << 20)) | rnd.choice(X86_SWAP_FLAGS)
    if r < 0.85:
        return rnd.choice(X86_MARKERS)
    return 0x8000000000000025 | pfn << 12


def _arm_entry(rnd) -> int:
    r = rnd.random()
    pfn = rnd.randint(0x40000, (1 << 24) - 1)
    if r < 0.6:
        return rnd.choice(ARM_PRESENT_FLAGS) | pfn << 12
    if r < 0.8:
        return (rnd.choice((0, 1)) << 6) | (rnd.randint(1, 1 << 20) << 12) | rnd.choice(ARM_SWAP_FLAGS)
    if r < 0.9:
        return (26 << 6) | (pfn << 12)
    return rnd.choice(ARM_MARKERS)


def _report_bad_page_map(rnd, ts):
    kernel, build = X86_KERNELS[rnd.randrange(3)]
    pte = _x86_entry(rnd)
    pfn = (pte >> 12) & ((1 << 40) - 1)
    pmd = rnd.randint(0x100000, 0x3fffff) << 12 | 0x067
    addr = rnd.randint(0x7f0000000, 0x7ffffffff)
    comm = rnd.choice(COMMS)
    pid = rnd.randint(300, 99999)
    yield ts, f"BUG: Bad page map in process {comm}  pte:{pte:016x} pmd:{pmd:x}"
    if pte & 1:
        yield ts, (f"page:{rnd.getrandbits(64):016x} refcount:1 mapcount:-1 mapping:0000000000000000 "
                   f"index:0x{addr:x} pfn:0x{pfn:x}")
        yield ts, "flags: 0x17ffffc0080068(uptodate|lru|active|swapbacked|node=0|zone=2|lastcpupid=0x1fffff)"
        yield ts, "raw: 0017ffffc0080068 ffffea0001c70008 ffffea0001c6ffc8 ffff888103a4c001"
        yield ts, "raw: 00000007f3a12345 0000000000000000 00000000fffffffe 0000000000000000"
        yield ts, "page dumped because: bad pte"
    yield ts, (f"addr:0000{addr:x}000 vm_flags:08100073 anon_vma:ffff888103a4c000 "
               f"mapping:0000000000000000 index:{addr:x}")
    yield ts, "file:(null) fault:0x0 mmap:0x0 read_folio:0x0"
    yield ts, (f"CPU: {rnd.randrange(8)} PID: {pid} Comm: {comm} Tainted: G    B              "
               f"{kernel} {build}")
    yield ts, f"Hardware name: {_hw(rnd)}"
    yield ts, "Call Trace:"
    yield ts, " <TASK>"
    for fr in rnd.sample(FRAMES, 5):
        yield ts, f" {fr}"
    yield ts, " </TASK>"


def _report_x86_oops(rnd, ts):
    kernel, build = rnd.choice(X86_KERNELS)
    addr = rnd.randint(0x7f0000000, 0x7ffffffff) << 12
    pgd = 0x800000010a5d6067 | rnd.randint(0, 0xfff) << 12
    pud = rnd.randint(0x100000, 0x3fffff) << 12 | 0x067
    pmd = rnd.randint(0x100000, 0x3fffff) << 12 | 0x067
    walk = f"PGD {pgd:x} P4D {pgd:x} PUD {pud:x} PMD {pmd:x} PTE {_x86_entry(rnd):x}"
    if rnd.random() < 0.2:
        walk = f"PGD {pgd:x} P4D {pgd:x} PUD {pud:x} PMD 0 "
    yield ts, f"BUG: unable to handle page fault for address: {addr:016x}"
    yield ts, "#PF: supervisor write access in kernel mode"
    yield ts, "#PF: error_code(0x0003) - permissions violation"
    yield ts, walk
    yield ts, "Oops: 0003 [#1] PREEMPT SMP NOPTI"
    yield ts, (f"CPU: {rnd.randrange(8)} PID: {rnd.randint(1, 99999)} Comm: {rnd.choice(COMMS)} "
               f"Not tainted {kernel} {build}")
    yield ts, f"Hardware name: {_hw(rnd)}"
    yield ts, "RIP: 0010:copy_user_enhanced_fast_string+0xe/0x40"
    yield ts, ("Code: 89 d1 c1 e9 03 83 e2 07 f3 48 a5 89 d1 f3 a4 31 c0 0f 01 ca c3 cc cc cc cc "
               "0f 1f 00 0f 01 cb 83 fa 40 0f 82 70 ff ff ff 89 d1 <f3> a4 31 c0 0f 01 ca c3")
    yield ts, "RSP: 0018:ffffc90000f4bd58 EFLAGS: 00010246"
    yield ts, f"RAX: 0000000000000000 RBX: {addr:016x} RCX: 0000000000001000"
    yield ts, "RDX: 0000000000000000 RSI: 00007f3a12345000 RDI: ffff888103a4c000"
    yield ts, "RBP: ffffc90000f4be08 R08: 0000000000000000 R09: 0000000000000000"


def _report_arm64(rnd, ts):
    kernel, build = rnd.choice(ARM_KERNELS)
    va = rnd.randint(0xffff80000, 0xffff8ffff) << 12
    t = lambda: 0x0800000081230003 | rnd.randint(0, 0xfff) << 12  # noqa: E731
    yield ts, f"Unable to handle kernel paging request at virtual address {va:016x}"
    yield ts, "Mem abort info:"
    yield ts, "  ESR = 0x0000000096000007"
    yield ts, "  EC = 0x25: DABT (current EL), IL = 32 bits"
    yield ts, "  SET = 0, FnV = 0"
    yield ts, "  EA = 0, S1PTW = 0"
    yield ts, "  FSC = 0x07: level 3 translation fault"
    yield ts, "user pgtable: 4k pages, 48-bit VAs, pgdp=0000000081230000"
    yield ts, (f"[{va:016x}] pgd={t():016x}, p4d={t():016x}, pud={t():016x}, pmd={t():016x}, "
               f"pte={_arm_entry(rnd):016x}")
    yield ts, "Internal error: Oops: 0000000096000007 [#1] PREEMPT SMP"
    yield ts, "Modules linked in: uffd_test(OE) nls_ascii nls_cp437 vfat fat virtio_net"
    yield ts, (f"CPU: {rnd.randrange(8)} UID: 0 PID: {rnd.randint(1, 99999)} Comm: "
               f"{rnd.choice(COMMS)} Tainted: G           OE      {kernel} {build}")
    yield ts, "Hardware name: linux,dummy-virt (DT)"
    yield ts, "pstate: 60400005 (nZCv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)"
    yield ts, "pc : __arch_copy_from_user+0x180/0x240"


def _report_swap(rnd, ts):
    e = (rnd.choice((0, 1, 2)) << 58) | rnd.randint(1, 1 << 20)
    msg = rnd.choice(("get_swap_device: Bad swap file entry %x", "swap_info_get: Bad swap file entry %x",
                      "_swap_info_get: Unused swap offset entry %08x"))
    yield ts, msg % (e if "file" in msg else e & 0xffffffff)


def _report_bad_pmd(rnd, ts):
    pmd = 0x0068000081200f41 | rnd.randint(0, 0xfff) << 21
    yield ts, f"mm/pgtable-generic.c:53: bad pmd {pmd:016x}."
    yield ts, (f"CPU: {rnd.randrange(8)} PID: {rnd.randint(1, 999)} Comm: khugepaged Not tainted "
               "6.1.0-13-arm64 #1  Debian 6.1.55-1")


REPORTS = (_report_bad_page_map, _report_x86_oops, _report_arm64, _report_swap, _report_bad_pmd)
REPORT_WEIGHTS = (4, 3, 3, 2, 1)

# ordinary lines: _ordinary(rnd) draws one of 26 kinds (the draw order fixes the inputs:
# keep it, so figures stay comparable between runs)
IFACES = ("eth0", "enp3s0", "wlp2s0", "docker0", "br-6f1a2b3c4d5e", "veth3f2a1b0")
UNITS = ("systemd-journald.service", "cron.service", "ssh.service", "docker.service",
         "NetworkManager.service", "apt-daily.timer", "fstrim.timer", "user@1000.service")


def _ordinary(rnd):
    r = rnd.randrange(26)
    ri = rnd.randint
    if r == 0:
        return (f"audit: type=1400 audit({ri(1700000000, 1800000000)}.{ri(0, 999):03d}:{ri(1, 9999)}): "
                f'apparmor="DENIED" operation="open" profile="snap.firefox.firefox" '
                f'name="/proc/{ri(1, 99999)}/cgroup" pid={ri(1, 99999)} comm="firefox" '
                f'requested_mask="r" denied_mask="r" fsuid=1000 ouid=0')
    if r == 1:
        return (f"[UFW BLOCK] IN={rnd.choice(IFACES)} OUT= MAC=52:54:00:{ri(0, 255):02x}:{ri(0, 255):02x}:"
                f"{ri(0, 255):02x}:52:54:00:12:35:02:08:00 SRC=10.0.{ri(0, 255)}.{ri(1, 254)} "
                f"DST=10.0.2.15 LEN={ri(40, 1500)} TOS=0x00 PREC=0x00 TTL={ri(30, 128)} ID={ri(0, 65535)} "
                f"DF PROTO=TCP SPT={ri(1024, 65535)} DPT={rnd.choice((22, 80, 443, 3389))} "
                f"WINDOW={ri(1024, 65535)} RES=0x00 SYN URGP=0")
    if r == 2:
        return f"usb 1-{ri(1, 4)}: new high-speed USB device number {ri(2, 60)} using xhci_hcd"
    if r == 3:
        return (f"usb 1-{ri(1, 4)}: New USB device found, idVendor={ri(0, 0xffff):04x}, "
                f"idProduct={ri(0, 0xffff):04x}, bcdDevice= {ri(0, 9)}.{ri(0, 99):02d}")
    if r == 4:
        return (f"EXT4-fs (nvme0n1p{ri(1, 4)}): mounted filesystem {rnd.getrandbits(128):032x} "
                "r/w with ordered data mode. Quota mode: none.")
    if r == 5:
        return f"IPv6: ADDRCONF(NETDEV_CHANGE): {rnd.choice(IFACES)}: link becomes ready"
    if r == 6:
        return f"{rnd.choice(IFACES)}: port {ri(1, 8)}(veth{ri(0, 0xffffff):06x}) entered forwarding state"
    if r == 7:
        return f"systemd[1]: Started {rnd.choice(UNITS)}."
    if r == 8:
        return (f"perf: interrupt took too long ({ri(2500, 9000)} > {ri(2500, 9000)}), lowering "
                f"kernel.perf_event_max_sample_rate to {ri(10000, 90000)}")
    if r == 9:
        return f"TCP: request_sock_TCP: Possible SYN flooding on port {ri(1, 65535)}. Sending cookies."
    if r == 10:
        return (f"nvme nvme0: I/O {ri(0, 1023)} QID {ri(1, 8)} timeout, aborting")
    if r == 11:
        return (f"{rnd.choice(COMMS)}[{ri(1, 99999)}]: segfault at {ri(0, 1 << 47):x} ip "
                f"{ri(0x550000000000, 0x56ffffffffff):016x} sp {ri(0x7ff000000000, 0x7fffffffffff):016x} "
                f"error {ri(4, 7)} in libc.so.6[{ri(0x7f0000000000, 0x7fffffffffff):x}+{ri(0x1000, 0x200000):x}]")
    if r == 12:
        return (f"Out of memory: Killed process {ri(1, 99999)} ({rnd.choice(COMMS)}) "
                f"total-vm:{ri(1000, 9999999)}kB, anon-rss:{ri(1000, 999999)}kB, file-rss:{ri(0, 9999)}kB, "
                f"shmem-rss:0kB, UID:{ri(0, 1000)} pgtables:{ri(100, 9999)}kB oom_score_adj:0")
    if r == 13:
        return (f"oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
                f"global_oom,task_memcg=/user.slice/user-1000.slice,task={rnd.choice(COMMS)},"
                f"pid={ri(1, 99999)},uid=1000")
    if r == 14:
        return f"ata{ri(1, 6)}: SATA link up {rnd.choice(('1.5', '3.0', '6.0'))} Gbps (SStatus 133 SControl 300)"
    if r == 15:
        return (f"pci 0000:{ri(0, 255):02x}:{ri(0, 31):02x}.{ri(0, 7)}: [{ri(0, 0xffff):04x}:"
                f"{ri(0, 0xffff):04x}] type 00 class 0x{ri(0, 0xffffff):06x}")
    if r == 16:
        return (f"pci 0000:00:{ri(0, 31):02x}.0: reg 0x{rnd.choice((0x10, 0x14, 0x18, 0x1c)):x}: "
                f"[mem 0x{ri(0, 0xffffffff):08x}-0x{ri(0, 0xffffffff):08x} 64bit pref]")
    if r == 17:
        return (f"BTRFS info (device dm-{ri(0, 3)}): first mount of filesystem "
                f"{rnd.getrandbits(128):032x}")
    if r == 18:
        return (f"wlp2s0: authenticate with {ri(0, 1 << 48):012x} (local address={ri(0, 1 << 48):012x})")
    if r == 19:
        return f"kauditd_printk_skb: {ri(1, 99)} callbacks suppressed"
    if r == 20:
        return (f"CPU{ri(0, 63)}: Core temperature above threshold, cpu clock throttled "
                f"(total events = {ri(1, 99999)})")
    if r == 21:
        return "memfd_create() called without MFD_EXEC or MFD_NOEXEC_SEAL set"
    if r == 22:
        return (f"i915 0000:00:02.0: [drm] GT0: GUC: submission enabled, firmware "
                f"i915/tgl_guc_70.bin version {ri(60, 70)}.{ri(0, 20)}.{ri(0, 9)}")
    if r == 23:
        return (f"blk_update_request: I/O error, dev sda, sector {ri(0, 1 << 32)} op 0x0:(READ) "
                f"flags 0x80700 phys_seg {ri(1, 32)} prio class 0")
    if r == 24:
        return (f"RIP: 0033:0x{ri(0x7f0000000000, 0x7fffffffffff):x}")
    return (f"R13: {rnd.getrandbits(64):016x} R14: {rnd.getrandbits(64):016x} "
            f"R15: {rnd.getrandbits(64):016x}")


def dmesg(nbytes: int, seed: int = SEED):
    """Yield text chunks of dmesg, about nbytes in all: ordinary lines (bodies drawn from a
    pool of 32768 made from the vocabulary above, as real logs repeat themselves), and a
    report (2 to 20 lines, fresh values) every ~1000 lines."""
    rnd = random.Random(f"{seed}-dmesg")
    pool = [_ordinary(rnd) for _ in range(1 << 15)]
    bits, rand, expo, choices = rnd.getrandbits, rnd.random, rnd.expovariate, rnd.choices
    t = 0.0
    n = 0
    buf: list[str] = []
    while n < nbytes:
        for _ in range(4096):
            t += expo(50.0)
            if rand() < 0.001:
                report = choices(REPORTS, REPORT_WEIGHTS)[0]
                buf.extend(f"[{ts:12.6f}] {msg}\n" for ts, msg in report(rnd, t))
            else:
                buf.append(f"[{t:12.6f}] {pool[bits(15)]}\n")
        text = "".join(buf)
        buf.clear()
        if n + len(text) > nbytes:
            text = text[:text.rfind("\n", 0, max(nbytes - n, 1)) + 1] or text[:text.find("\n") + 1]
        n += len(text)
        yield text


def main(argv: list[str]) -> int:
    seed = SEED
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    out = sys.stdout.buffer
    try:
        if argv[:1] == ["values"]:
            write = out.write
            for v in values(argv[1], int(argv[2]), seed):
                write(b"%016x\n" % v)
        elif argv[:1] == ["dmesg"]:
            for chunk in dmesg(int(float(argv[1]) * 1e6), seed):
                out.write(chunk.encode())
        elif argv[:1] == ["stream"]:
            stream_values(out, argv[1], int(float(argv[2]) * 1e6), seed)
        else:
            print(__doc__, file=sys.stderr)
            return 2
        out.flush()
    except BrokenPipeError:
        return 141
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
