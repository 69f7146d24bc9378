"""Paper invoices as PDF with reportlab (no Qt here): the full form, the overlay onto
pre-printed paper, the 销货清单 pages and the calibration page."""
