"""The infant's brain: V1, VisNet, motor module and mirror layer. Pure numpy, no I/O."""
