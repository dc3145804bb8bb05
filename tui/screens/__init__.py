"""The app's screens: start, interview, feedback, history."""
