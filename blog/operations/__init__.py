"""What the site's operators run, or what runs for them, rather than what readers see:
backups and restoring them (backup_file, backup, restore), and commenters' privacy
(privacy: erasing a commenter, forgetting old IP addresses). The management commands
in blog/management/commands/ are their command lines."""
