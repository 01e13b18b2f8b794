"""The file sink: a session encoded through ffmpeg with chapters, tags and captions."""
