from carestats.cli import main

main()
