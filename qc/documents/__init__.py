"""QC documents: the periodic product review. Pure rendering from plain inputs, no database
(the selectors fill the inputs); the drawing helpers are the release documents' own."""
