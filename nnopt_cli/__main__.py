from nnopt_cli.cli import main

main()
