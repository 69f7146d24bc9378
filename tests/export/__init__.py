"""Export of 数电 XML and PDF files."""
