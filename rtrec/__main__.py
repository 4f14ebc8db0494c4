from rtrec.cli.main import main

main()
