from rfm_cli.launch import main

main()
