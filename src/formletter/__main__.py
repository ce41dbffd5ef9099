from formletter.cli import main

main()
