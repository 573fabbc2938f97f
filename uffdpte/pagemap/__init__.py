"""The live view: what the running kernel says about a process's pages.

``entries``   the /proc/PID/pagemap u64 layout as data (bit, macro, meaning, releases, source)
``maps``      /proc/PID/maps parsing and the RANGE argument
``scan_ioctl`` PAGEMAP_SCAN (6.7+): struct layouts and category bits as data, via fcntl.ioctl
``running``   the running kernel's profile (config from /proc/config.gz) and PFN visibility
``reading``   one entry -> a reading in decode's result model, and its JSON record
``read``      the session: open, read in windows, group into runs, count per VMA
``render``    page lines, ptdump-style ranges, summaries, JSON
"""
