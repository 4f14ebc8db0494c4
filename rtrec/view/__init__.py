"""`rtrec view`: one self-contained HTML page of a call (also what `rtrec ui` serves).

build.py gathers a session's views, event log (events.py) and sound (audio.py);
model.py and stats.py turn the views into what the page draws (pure); page.py inlines
the front end in static/ with the data.
"""
