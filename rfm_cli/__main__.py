from rfm_cli.cli import main

main()
