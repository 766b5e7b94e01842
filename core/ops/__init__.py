"""Operations: backups that restore (``mentoring40 backup``) and content export
(``mentoring40 content export``)."""
