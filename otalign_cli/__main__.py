from otalign_cli.cli import main

main()
