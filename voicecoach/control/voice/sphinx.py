"""The command after the wake word: pocketsphinx with a grammar of the commands (the ``listen`` extra).

pocketsphinx 5 (BSD) ships a US English acoustic model and dictionary in its
wheel: nothing is downloaded. What we measured (``scripts/bench voice``)
decided the shape of this module:

* **Where the command is.** The wake word model fires some 100-300 ms after
  the wake word ends, often inside the command ("hey jarvis, stop" said in
  one breath). So the recognizer gets the audio from before the wake
  (:data:`~voicecoach.control.voice.listener.BEFORE_S`) and decodes it with
  a grammar that lets the wake word's own words come first:
  ``[hey] [jarvis] (pause | resume | next | ...)``.
* **When the speaker has finished.** A voice activity detector (pocketsphinx's
  ``Vad``) on 30 ms frames: the command ends after :attr:`end_silence_s` of
  non-speech; a clear command is taken already after
  :attr:`early_silence_s`. In noise the detector takes much of the noise
  for speech, and the command would never end: the recognizer hears the
  sound after WebRTC's noise suppressor (:mod:`.noise`), which takes care of
  a steady fan, and a frame counts as speech only when it is also
  :attr:`over_floor_db` over the room's noise floor, measured on the quieter
  frames before the wake word (which takes care of traffic, whose swells
  the suppressor lets through). If what was heard holds no command word (the
  wake word alone: people often stop after it), it keeps listening; if
  nothing more is said within :attr:`wait_s` of the wake word, nothing
  happens.
* **Rejection.** A grammar decoder always returns *some* command, so each
  result is checked twice. The command's frames are decoded again, once
  with the command grammar and once with a free phone loop (``allphone``,
  the best any sequence of English sounds can do); the per-frame score
  difference is a confidence, kept when at least :attr:`min_confidence`.
  And the whole audio is decoded again with a grammar of every *other*
  command (the quick decoder, as the command was found): the per-frame
  score of the command over that best rival is a margin, kept when at least
  :attr:`min_margin` (a rival path that cannot finish a command does not
  count). Speech longer than a command (:attr:`max_speech_s`) is no command
  either. All give "Sorry?". The thresholds were chosen on the tuning
  speakers (``scripts/bench voice``, the wake word forced): strict ones
  (confidence 8, margin 2.5) executed no wrong command there in the quiet
  room or at 10 dB SNR, but also refused a quarter of the clear commands of
  clean neural voices ("repeat", "done", "go on"...). These are the
  strictest that still obey every command of the two clean voices of
  tests/speech; on the tuning speakers they cut the wrong commands by a
  third to a half (quiet room 5 of 59 to 3 of 55; traffic at 10 dB SNR 3 of
  43 to 2 of 35). Agreement with the phone loop's own words (the command
  nearest its phones) was measured too and told right from wrong less well.
  The margin's rival may be scored a little above the command itself (the
  quick decoder prunes), hence a threshold below 0.

Scores are comparable across the two decodes because every senone is
scored in each (``compallsen``), so both are normalized alike per frame.
Finding the command is done first by a quicker decoder that scores only the
likely senones (38 ms instead of 110 ms for two seconds of audio, while the
speaker waits for the answer); when it finds no whole command, the exact
decoder tries again. Both know only the words of the grammar, read from the
model's dictionary (5 MB each instead of 28).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voicecoach.control.voice import NOT_A_COMMAND, NOTHING, RATE, VOCABULARY, Heard
from voicecoach.errors import VoicecoachError

# Pronunciations heard from our test speakers that the dictionary lacks (an unreleased
# final consonant, a lax vowel); one rejected word costs a "Sorry?", one missing costs the command.
EXTRA_PRONUNCIATIONS = (("help(2)", "HH EH L"), ("stop(2)", "S T AA"), ("pause(2)", "P AA Z"))


def _grammar(commands: list[str], lead: list[str]) -> str:
    optional = "".join(f"[{w}] " for w in lead)
    return (
        "#JSGF V1.0;\ngrammar voicecoach;\n"
        f"public <utterance> = {optional}<command>;\n"
        f"<command> = {' | '.join(commands)};\n"
    )


def _pronunciations(dictionary: str, words: set[str]) -> list[tuple[str, str]]:
    """Every pronunciation of ``words`` in a CMU dictionary file (``word`` and ``word(2)`` lines)."""
    found = []
    with open(dictionary, encoding="utf-8") as lines:
        for line in lines:
            word, _, phones = line.strip().partition(" ")
            if word.split("(")[0] in words and phones:
                found.append((word, phones.strip()))
    return found


#: Phrases in the grammar that are no command: heard, they get "Sorry?". "go on" was a word for resume,
#: and "done" was taken for it (3 of 7 takes of the voices the wake model hears); as a decoy it still
#: draws speech like it away from the real commands (unrelated speech was taken for "help" without it).
DECOYS = {"go on": "unknown"}


class SphinxCommands:
    """A :class:`~voicecoach.control.voice.CommandRecognizer` on pocketsphinx.

    ``wake_phrase`` is the wake word as written ("Hey Jarvis"): those of its
    words the dictionary knows may come before the command.
    """

    early_silence_s = 0.15  # non-speech after which a clear command is taken at once
    end_silence_s = 0.3  # non-speech that ends a command
    wait_s = 1.5  # after the wake word, time for the command to start
    max_s = 3.0  # after the wake word, the longest we listen
    max_speech_s = 1.6  # speech after the wake word longer than this is not a command
    min_confidence = -3.0  # per-frame score over the free phone loop (see the module docstring)
    min_margin = -0.75  # per-frame score over the best other command (see the module docstring)
    over_floor_db: float | None = 10.0  # speech must be this far over the noise floor (None: the VAD alone)

    def __init__(self, wake_phrase: str = "Hey Jarvis", vocabulary: dict[str, str] | None = None) -> None:
        try:
            import pocketsphinx
        except ImportError as exc:
            from voicecoach.control.voice.micro import missing_error

            raise missing_error() from exc
        self.vocabulary = {**dict(vocabulary or VOCABULARY), **DECOYS}
        wake_words = wake_phrase.casefold().replace(",", " ").split()
        try:
            # Two decoders that know only our words (not the 130,000-word dictionary: 5 MB
            # each instead of 28, loaded in milliseconds). The one that finds the command
            # scores only the likely senones (three times faster: it runs while the speaker
            # waits); the confidence decodes score every senone (``compallsen``) so the
            # grammar's and the phone loop's scores compare.
            self._fast: Any = pocketsphinx.Decoder(lm=None, dict=None, loglevel="FATAL")
            self._decoder: Any = pocketsphinx.Decoder(lm=None, dict=None, loglevel="FATAL", compallsen=True)
            known = _pronunciations(
                pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"),
                {w for p in self.vocabulary for w in p.split()} | set(wake_words),
            )
            for word, phones in [*known, *EXTRA_PRONUNCIATIONS]:
                for d in (self._fast, self._decoder):
                    d.add_word(word, phones, False)
            lead = [w for w in wake_words if self._decoder.lookup_word(w) is not None]
            self._fast.add_jsgf_string("after_wake", _grammar(list(self.vocabulary), lead))
            self._decoder.add_jsgf_string("after_wake_exact", _grammar(list(self.vocabulary), lead))
            self._decoder.add_jsgf_string("command", _grammar(list(self.vocabulary), []))
            # For each action, the grammar without its words: the best rival, found as the command was.
            self._rivals: dict[str, str] = {}
            for action in dict.fromkeys(self.vocabulary.values()):
                others = [p for p, a in self.vocabulary.items() if a != action]
                if others:
                    self._rivals[action] = f"rival_{action}"
                    self._fast.add_jsgf_string(f"rival_{action}", _grammar(others, lead))
            self._decoder.add_allphone_file("phones", pocketsphinx.get_model_path("en-us/en-us-phone.lm.bin"))
            self._vad: Any = pocketsphinx.Vad(pocketsphinx.Vad.LOOSE, RATE, 0.03)
        except (RuntimeError, ValueError, OSError) as exc:
            raise VoicecoachError(f"cannot start the speech recognizer: {exc}") from exc
        self._logmath = self._decoder.get_logmath()
        self._lead = set(lead)
        self._frame = int(self._vad.frame_bytes // 2)  # samples per VAD frame
        self._audio: list[np.ndarray] = []
        self._pending = np.zeros(0, np.int16)
        self._after = 0  # samples heard since the wake word
        self._speech = 0  # of which speech, as the VAD says
        self._speech_seen = False
        self._quiet = 0  # samples of non-speech at the end
        self._tried = False  # this stretch of non-speech was already decoded early
        self.last_confidence = 0.0  # of the last command recognized (for the benchmark)
        self.last_margin = 0.0  # over the best other command, likewise
        self.timeouts = 0  # commands given up at max_s, still hearing "speech"
        self._floor = -120.0  # the room's noise level, dB (measured at each start)

    # -- the streaming side ------------------------------------------------------
    def start(self, before: np.ndarray) -> None:
        self._audio = [np.asarray(before, np.int16)]
        self._pending = np.zeros(0, np.int16)
        self._after = self._speech = self._quiet = 0
        self._tried = False
        # The noise floor: the quieter frames heard before the wake (the wake word's gaps, the room before it).
        levels = [self._level(f) for f in self._frames_of(np.asarray(before, np.int16))]
        self._floor = float(np.percentile(levels, 10)) if levels else -120.0
        # Still talking when the wake fired: the command may already be under way.
        tail = np.asarray(before[-int(0.2 * RATE) :], np.int16)
        self._speech_seen = self._is_speech_at_all(tail)

    def feed(self, pcm: np.ndarray) -> Heard | None:
        pcm = np.asarray(pcm, np.int16)
        self._audio.append(pcm)
        self._after += len(pcm)
        frames = np.concatenate([self._pending, pcm])
        n = len(frames) // self._frame * self._frame
        self._pending = frames[n:]
        for i in range(0, n, self._frame):
            if self._is_speech(frames[i : i + self._frame]):
                self._speech += self._frame
                self._speech_seen = True
                self._quiet = 0
                self._tried = False
            else:
                self._quiet += self._frame
        if self._speech_seen and self._quiet >= self.end_silence_s * RATE:
            heard = self._decide()
            if heard is not None:
                return heard
            # Only the wake word so far: people often stop after it, waiting to be heard.
            # Keep listening for the command (nothing happens if none comes).
            self._speech_seen = False
        if self._speech_seen and not self._tried and self._quiet >= self.early_silence_s * RATE:
            # A short pause: most commands are over by now. Take a clear command at once (half
            # the waiting); anything else (the pause after "hey jarvis", half of "go back") waits.
            self._tried = True
            early = self._decide()
            if early is not None and early.action != NOT_A_COMMAND.action:
                return early
        if not self._speech_seen and self._after >= self.wait_s * RATE:
            return NOTHING
        if self._after >= self.max_s * RATE:
            self.timeouts += 1  # (counted for the benchmark: the end of the command was never found)
            return NOT_A_COMMAND  # still talking: a sentence, not a command
        return None

    def _frames_of(self, pcm: np.ndarray) -> list[np.ndarray]:
        return [pcm[i : i + self._frame] for i in range(0, len(pcm) - self._frame + 1, self._frame)]

    @staticmethod
    def _level(frame: np.ndarray) -> float:
        """The frame's level in dB (full scale 0)."""
        return 10 * float(np.log10(np.mean(frame.astype(np.float64) ** 2) / 32768.0**2 + 1e-12))

    def _is_speech(self, frame: np.ndarray) -> bool:
        if self.over_floor_db is not None and self._level(frame) < self._floor + self.over_floor_db:
            return False  # hardly over the room's steady noise: not speech, whatever the VAD says
        return bool(self._vad.is_speech(frame.tobytes()))

    def _is_speech_at_all(self, pcm: np.ndarray) -> bool:
        frames = self._frames_of(pcm)
        return sum(self._is_speech(f) for f in frames) >= max(1, len(frames) // 2)

    # -- deciding ------------------------------------------------------------------
    def _decide(self) -> Heard | None:
        """What was said; ``None`` when no command word was heard (the wake word alone)."""
        if self._speech > self.max_speech_s * RATE:
            return NOT_A_COMMAND
        return self._recognize(np.concatenate(self._audio))

    def _decode(self, search: str, pcm: np.ndarray) -> tuple[str | None, float, int, list[Any]]:
        d = self._fast if search == "after_wake" or search.startswith("rival_") else self._decoder
        d.activate_search(search)
        d.start_utt()
        d.process_raw(pcm.tobytes(), False, False)
        d.end_utt()
        hyp = d.hyp()
        segments = list(d.seg() or [])
        if hyp is None or hyp.best_score <= 0:
            return None, 0.0, max(1, d.n_frames()), segments
        return hyp.hypstr, float(self._logmath.log(hyp.best_score)), max(1, d.n_frames()), segments

    def _find(self, pcm: np.ndarray, search: str) -> tuple[list[Any], str]:
        """The command words ``search`` finds in ``pcm`` (segments), and what they say."""
        text, _, _, segments = self._decode(search, pcm)
        words = [s for s in segments if self._base(s.word) in self.vocabulary_words] if text else []
        return words, " ".join(self._base(s.word) for s in words)

    def _recognize(self, pcm: np.ndarray) -> Heard | None:
        words, said = self._find(pcm, "after_wake")
        if said not in self.vocabulary:
            # The quick decoder found no whole command: ask the exact one (it scores every
            # senone; three times slower, and now and then it hears what the quick one missed).
            words, said = self._find(pcm, "after_wake_exact")
        if not words:
            return None
        if said not in self.vocabulary:
            return NOT_A_COMMAND  # a partial path: the decoder reached no end of the grammar
        # The confidence, on the command's own frames (a little before, for its first sound).
        part = pcm[max(0, words[0].start_frame - 5) * RATE // 100 :]
        _, grammar_score, frames, _ = self._decode("command", part)
        _, phone_score, _, _ = self._decode("phones", part)
        if grammar_score == 0.0 or phone_score == 0.0:
            return NOT_A_COMMAND
        self.last_confidence = (grammar_score - phone_score) / frames
        action = self.vocabulary[said]
        self.last_margin = float("inf")  # no other command fits at all
        if action in self._rivals:
            # The best other command, decoded as the command was found (the wake word's words may come first).
            # A rival path that stops inside a command ("go" of "go back") did not fit: no rival then.
            _, best, n, _ = self._decode("after_wake", pcm)
            _, rival, _, segments = self._decode(self._rivals[action], pcm)
            other = " ".join(w for w in (self._base(s.word) for s in segments) if w in self.vocabulary_words)
            if best != 0.0 and rival != 0.0 and other in self.vocabulary:
                self.last_margin = (best - rival) / n
        if self.last_confidence < self.min_confidence or self.last_margin < self.min_margin:
            return NOT_A_COMMAND
        return Heard(action, said)

    @property
    def vocabulary_words(self) -> set[str]:
        return {w for phrase in self.vocabulary for w in phrase.split()}

    def _base(self, word: str) -> str:
        """``help(2)`` -> ``help``; fillers and the wake word's words are not command words."""
        base = word.split("(")[0]
        return "" if base in self._lead and base not in self.vocabulary_words else base
