"""The export's files, worded from `messages/`: the statistics table as the office's own
spreadsheet (`workbook`), the long-form CSV (`longform`), the report in the Nghị định 30 layout
(`report`), and which writes which format (`formats`). They read `bot.stats.export.Export`."""
