"""The question, read at the door: what it asks for and about (reading.py), the sources it names
(named.py), a follow-up made standalone (followup.py), the NSPCC labels it is about by meaning
(labels.py), how near it is to questions the reviews don't answer (scope.py), and the live-concern
notice (safety.py). Consumes the question's text and vectors; imports nothing else of assistant/.
"""
