"""Editing in the browser and through the editorial API: revisions, review, publishing
(docs/EDITING.md). Domain layer: no front end is imported here."""
