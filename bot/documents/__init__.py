"""What an episode's feed item links to beyond its audio: transcripts and chapters, fetched in the
background, searched (transcript moments) and posted (chapters) in discussion threads."""
