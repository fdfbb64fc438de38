from lacarte.cli import main

main()
