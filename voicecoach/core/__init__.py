"""The pure core: plan model, plan files, the scheduler, timelines and their live edits. No I/O."""
