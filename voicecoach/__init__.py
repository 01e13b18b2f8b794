"""voicecoach: hands-free voice coaching for home exercise sessions."""

__version__ = "0.1.0"
