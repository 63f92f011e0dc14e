"""The citizen objection process and the exclusion lists sent to the data platform."""
