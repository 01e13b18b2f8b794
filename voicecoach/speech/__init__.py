"""Speech: phrases -> clips through a voice engine (system or piper) and a disk cache."""
